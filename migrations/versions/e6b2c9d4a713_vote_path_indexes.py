"""The vote's indexes (issue 19): finalists are counted by (category, state); the /24's hash is never looked up

Every vote counts its category's finalists; with one index per column the planner walked every case in the vote
state and filtered by category. ``(category_id, state)`` answers it from the index and still serves every lookup
by category alone, so it replaces ``ix_cases_category_id``. ``ballots.subnet_hash`` is only ever read with its
ballot (grouped in Python by the integrity rules), never searched: its index cost every vote an insert.

Revision ID: e6b2c9d4a713
Revises: d5a8f3c2e1b7
Create Date: 2026-12-06 03:10:00

"""
from alembic import op


revision = 'e6b2c9d4a713'
down_revision = 'd5a8f3c2e1b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_category_id')
        batch_op.create_index('ix_cases_category_id_state', ['category_id', 'state'], unique=False)
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index('ix_ballots_subnet_hash')


def downgrade():
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index('ix_ballots_subnet_hash', ['subnet_hash'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_category_id_state')
        batch_op.create_index('ix_cases_category_id', ['category_id'], unique=False)
