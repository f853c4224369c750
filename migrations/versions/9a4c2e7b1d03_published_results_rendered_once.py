"""published results rendered once: each version's results page, CSV and XLSX per language, served as bytes

Revision ID: 9a4c2e7b1d03
Revises: 8a1c2e5f9b3d
Create Date: 2026-12-05 18:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = '9a4c2e7b1d03'
down_revision = '8a1c2e5f9b3d'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'result_renderings',
        sa.Column('snapshot_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('lang', sa.String(length=5), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['snapshot_id'], ['result_snapshots.id'],
                                name=op.f('fk_result_renderings_snapshot_id_result_snapshots')),
        sa.PrimaryKeyConstraint('snapshot_id', 'kind', 'lang', name=op.f('pk_result_renderings')),
    )


def downgrade():
    op.drop_table('result_renderings')
