"""who created / last edited a client, and who uploaded a video (job)

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'


def upgrade() -> None:
    with op.batch_alter_table('clients') as b:
        b.add_column(sa.Column('created_by', sa.String(length=200), nullable=True))
        b.add_column(sa.Column('updated_by', sa.String(length=200), nullable=True))
    with op.batch_alter_table('jobs') as b:
        b.add_column(sa.Column('created_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs') as b:
        b.drop_column('created_by')
    with op.batch_alter_table('clients') as b:
        b.drop_column('updated_by')
        b.drop_column('created_by')
