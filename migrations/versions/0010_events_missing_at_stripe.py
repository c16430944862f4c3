"""events whose object Stripe does not have

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

An event about an object Stripe cannot find (deleted test data, another account's, a customer
removed by hand) is acknowledged so Stripe stops retrying it, and kept unapplied with this
mark and its error for staff to see and replay. No event stored before was so marked.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('missing_at_stripe', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('stripe_event', schema=None) as batch_op:
        batch_op.drop_column('missing_at_stripe')
