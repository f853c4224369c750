"""campaigns: who may vote (a verified number, a WeChat user of the official account, or either)

Revision ID: 8a1c2e5f9b3d
Revises: 5d2b8c41e7a9
Create Date: 2026-12-05 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '8a1c2e5f9b3d'
down_revision = '5d2b8c41e7a9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vote_identity', sa.String(length=10), server_default='sms', nullable=False))


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('vote_identity')
