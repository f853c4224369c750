"""The dossier form is declared per campaign: campaigns.dossier_form (empty: the 2017 form) and cases.dossier

The 2017 form's fields keep their columns of ``cases``, so every existing case's values and versions stay as they
are (the 2017 form is today's fields); fields a campaign adds are stored in ``cases.dossier`` under their key.

Revision ID: a7d3c5e91f20
Revises: 9a4c2e7b1d03
Create Date: 2026-12-05 18:40:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'a7d3c5e91f20'
down_revision = '9a4c2e7b1d03'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier_form', sa.JSON(), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dossier', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'),
                                      server_default='{}', nullable=False))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('dossier')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('dossier_form')
