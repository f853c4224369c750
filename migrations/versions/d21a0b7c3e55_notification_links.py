"""notification links: an in-app notification may lead elsewhere than its case's page (an objection to answer)

Revision ID: d21a0b7c3e55
Revises: c4e7a2b1d9f0
Create Date: 2026-12-05 21:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd21a0b7c3e55'
down_revision = 'c4e7a2b1d9f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('link')
