"""The 2017 form's values move from their own columns of ``cases`` into ``cases.dossier``, under their field keys

Only the fields the rules use keep a column (title, category, domain, recommending organization, in-operation date,
the unit); every other value of the declared form lives in ``cases.dossier``, so a campaign may drop or relabel
them like any field it declares. Values are copied exactly: texts as they are (an empty text is not stored, as the
form stores it), the investment as a decimal string with two places (``"1250000.00"``, as the declaration's money
type keeps amounts). The downgrade restores the columns from the same keys.

Revision ID: d5a8f3c2e1b7
Revises: d21a0b7c3e55
Create Date: 2026-12-05 20:50:00

"""
from decimal import Decimal

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = 'd5a8f3c2e1b7'
down_revision = 'd21a0b7c3e55'
branch_labels = None
depends_on = None

# The moved columns as the initial schema made them (name, type); frozen here, as a migration must be.
TEXTS = (
    ('construction_unit', sa.String(length=200)), ('operating_unit', sa.String(length=200)), ('summary', sa.Text()),
    ('description', sa.Text()), ('innovation', sa.Text()), ('effects', sa.Text()), ('beneficiaries', sa.Text()),
    ('public_url', sa.String(length=500)), ('app_name', sa.String(length=200)),
)
MONEY = 'investment'
CENTS = Decimal('0.01')
DOSSIER = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def _cases(with_columns: bool) -> sa.Table:
    columns = [sa.column('id', sa.Integer), sa.column('dossier', DOSSIER)]
    if with_columns:
        columns += [sa.column(name, kind) for name, kind in TEXTS]
        columns.append(sa.column(MONEY, sa.Numeric(16, 2)))
    return sa.table('cases', *columns)


def upgrade():
    conn = op.get_bind()
    cases = _cases(with_columns=True)
    for row in conn.execute(sa.select(cases)).mappings().all():
        values = dict(row['dossier'] or {})
        for name, _kind in TEXTS:
            if row[name]:
                values[name] = row[name]
        if row[MONEY] is not None:
            values[MONEY] = str(Decimal(row[MONEY]).quantize(CENTS))
        if values != (row['dossier'] or {}):
            conn.execute(sa.update(cases).where(cases.c.id == row['id']).values(dossier=values))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name, _kind in TEXTS:
            batch_op.drop_column(name)
        batch_op.drop_column(MONEY)


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name, kind in TEXTS:
            batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=''))
        batch_op.add_column(sa.Column(MONEY, sa.Numeric(precision=16, scale=2), nullable=True))
    conn = op.get_bind()
    cases = _cases(with_columns=True)
    for row in conn.execute(sa.select(cases.c.id, cases.c.dossier)).mappings().all():
        values = dict(row['dossier'] or {})
        moved = {name: str(values.pop(name, None) or '') for name, _kind in TEXTS}
        money = values.pop(MONEY, None)
        moved[MONEY] = Decimal(str(money)) if money not in (None, '') else None
        conn.execute(sa.update(cases).where(cases.c.id == row['id']).values(dossier=values, **moved))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for name, kind in TEXTS:
            batch_op.alter_column(name, existing_type=kind, existing_nullable=False, server_default=None)
