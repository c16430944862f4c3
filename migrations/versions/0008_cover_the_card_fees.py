"""cover the card fees

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25

Readers may add the estimated card fee to their gift (donations/fees.py). The attempt keeps
what they added; the gift and the recurring gift keep what Stripe's metadata says was added
(a subscription's may change when the donor changes their amount); the monthly rollup
keeps how many gifts covered the fees and by how much. Every row stored before this had no
such offer, so 0 is true of all of them, the rollups included.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('checkout_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_covered', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_checkout_attempt_fee_covered_not_negative'), 'fee_covered >= 0'
        )

    with op.batch_alter_table('recurring_donation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_covered', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fee_covered', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_donation_fee_covered_in_amount'), 'fee_covered >= 0 AND fee_covered < amount'
        )

    with op.batch_alter_table('gift_month', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covered_gifts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('covered', sa.BigInteger(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('gift_month', schema=None) as batch_op:
        batch_op.drop_column('covered')
        batch_op.drop_column('covered_gifts')

    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_donation_fee_covered_in_amount'), type_='check')
        batch_op.drop_column('fee_covered')

    with op.batch_alter_table('recurring_donation', schema=None) as batch_op:
        batch_op.drop_column('fee_covered')

    with op.batch_alter_table('checkout_attempt', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_checkout_attempt_fee_covered_not_negative'), type_='check')
        batch_op.drop_column('fee_covered')
