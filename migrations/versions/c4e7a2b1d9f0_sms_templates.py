"""sms_templates: the approved template and parameters organizers name per kind of text (append-only history)

Revision ID: c4e7a2b1d9f0
Revises: b41e7c2d9a18
Create Date: 2026-12-05 18:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e7a2b1d9f0'
down_revision = 'b41e7c2d9a18'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('template_code', sa.String(length=64), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['changed_by_id'], ['users.id'], name=op.f('fk_sms_templates_changed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_templates'))
    )
    with op.batch_alter_table('sms_templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_templates_kind'), ['kind'], unique=False)


def downgrade():
    with op.batch_alter_table('sms_templates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_templates_kind'))
    op.drop_table('sms_templates')
