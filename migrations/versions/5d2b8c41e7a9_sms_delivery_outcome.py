"""SMS outbox: the kind, campaign, template and the outcome of each delivery (gateways with approved templates)

Revision ID: 5d2b8c41e7a9
Revises: 71627d15ded2
Create Date: 2026-12-05 18:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5d2b8c41e7a9'
down_revision = '71627d15ded2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=40), server_default='', nullable=False))
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('template_code', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('status', sa.String(length=12), server_default='sent', nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('provider_message_id', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('error_code', sa.String(length=100), server_default='', nullable=False))
        batch_op.add_column(sa.Column('error', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('meaning', sa.String(length=20), server_default='', nullable=False))
        batch_op.add_column(sa.Column('sent_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sms_messages_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_messages_created_at'), ['created_at'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_sms_messages_campaign_id_campaigns'), 'campaigns', ['campaign_id'], ['id'])
    # Texts sent before: delivered synchronously by the backend of the day, so sent when written.
    op.execute("UPDATE sms_messages SET sent_at = created_at")


def downgrade():
    with op.batch_alter_table('sms_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_sms_messages_campaign_id_campaigns'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_sms_messages_created_at'))
        batch_op.drop_index(batch_op.f('ix_sms_messages_campaign_id'))
        for column in ('sent_at', 'meaning', 'error', 'error_code', 'provider_message_id', 'attempts', 'status',
                       'template_code', 'campaign_id', 'kind'):
            batch_op.drop_column(column)
