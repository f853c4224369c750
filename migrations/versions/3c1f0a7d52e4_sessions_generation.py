"""users: auth_generation, so logging out and password changes end earlier session cookies

Revision ID: 3c1f0a7d52e4
Revises: 3b7e1f0c9a2d
Create Date: 2026-11-29 04:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1f0a7d52e4'
down_revision = '3b7e1f0c9a2d'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('auth_generation', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('auth_generation')
