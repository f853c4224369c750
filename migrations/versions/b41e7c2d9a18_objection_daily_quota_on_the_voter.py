"""The objections' daily cap is kept on the voter: voters.objections_on, voters.objections_used

A conditional UPDATE of this counter takes an objection's place for the day, so parallel objections from one number
cannot pass the cap together (the count of today's objections, read before writing, let 6 of 10 through).

Revision ID: b41e7c2d9a18
Revises: a7d3c5e91f20
Create Date: 2026-12-05 19:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b41e7c2d9a18'
down_revision = 'a7d3c5e91f20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('voters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('objections_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('objections_used', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('voters', schema=None) as batch_op:
        batch_op.drop_column('objections_used')
        batch_op.drop_column('objections_on')
