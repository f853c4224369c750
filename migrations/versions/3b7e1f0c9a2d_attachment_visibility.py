"""attachment visibility: public, or staff and the unit only

Revision ID: 3b7e1f0c9a2d
Revises: 6a1d79070217
Create Date: 2026-11-29 05:00:00

Photos stay public (the showcase shows them, as a copy without EXIF); documents become private, as new ones are.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3b7e1f0c9a2d'
down_revision = '6a1d79070217'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visibility', sa.String(length=10), server_default='private', nullable=False))
    op.execute("UPDATE attachments SET visibility = 'public' WHERE kind = 'photo'")


def downgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('visibility')
