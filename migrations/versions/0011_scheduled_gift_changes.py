"""a gift's change that starts with the next period

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03

A donor's change of interval (monthly to annual, or back) starts when the paid period ends,
through a Stripe subscription schedule; until then the gift shows both what it is and what
it becomes, and from when. No gift had such a change before.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('recurring_donation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scheduled_amount', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                'scheduled_interval',
                sa.Enum('month', 'year', name='scheduled_interval', native_enum=False, create_constraint=True, length=24),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column('scheduled_from', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('recurring_donation', schema=None) as batch_op:
        batch_op.drop_column('scheduled_from')
        batch_op.drop_constraint(op.f('ck_recurring_donation_scheduled_interval'), type_='check')
        batch_op.drop_column('scheduled_interval')
        batch_op.drop_column('scheduled_amount')
