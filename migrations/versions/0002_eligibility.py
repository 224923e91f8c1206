"""eligibility: rule-parameter overrides, their change log, reviewers' findings on criteria

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

APPEND_ONLY = ("rule_parameter_changes", "criterion_reviews")


def upgrade():
    op.create_table('rule_parameter_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ruleset_id', sa.String(length=40), nullable=False),
    sa.Column('criterion_id', sa.String(length=20), nullable=False),
    sa.Column('parameter', sa.String(length=60), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_rule_parameter_overrides_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_parameter_overrides')),
    sa.UniqueConstraint('ruleset_id', 'criterion_id', 'parameter', name='uq_rule_parameter_overrides_key')
    )
    op.create_table('rule_parameter_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ruleset_id', sa.String(length=40), nullable=False),
    sa.Column('criterion_id', sa.String(length=20), nullable=False),
    sa.Column('parameter', sa.String(length=60), nullable=False),
    sa.Column('old_value', sa.JSON(), nullable=False),
    sa.Column('new_value', sa.JSON(), nullable=False),
    sa.Column('old_verified', sa.Boolean(), nullable=False),
    sa.Column('new_verified', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_rule_parameter_changes_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_parameter_changes'))
    )
    with op.batch_alter_table('rule_parameter_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rule_parameter_changes_ruleset_id'), ['ruleset_id'], unique=False)

    op.create_table('criterion_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('nomination_id', sa.Integer(), nullable=False),
    sa.Column('ruleset_id', sa.String(length=40), nullable=False),
    sa.Column('criterion_id', sa.String(length=20), nullable=False),
    sa.Column('result', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_name', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("result IN ('pass', 'fail', 'needs_review')", name=op.f('ck_criterion_reviews_known_result')),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_criterion_reviews_actor_id_users')),
    sa.ForeignKeyConstraint(['nomination_id'], ['nominations.id'], name=op.f('fk_criterion_reviews_nomination_id_nominations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_criterion_reviews'))
    )
    with op.batch_alter_table('criterion_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_criterion_reviews_nomination_criterion', ['nomination_id', 'criterion_id'], unique=False)

    _append_only_triggers()


def _append_only_triggers():
    """The change log and the reviews are never rewritten: UPDATE and DELETE are refused."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION eligibility_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
            END;
            $$ LANGUAGE plpgsql;
            """
        )
        for table in APPEND_ONLY:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION eligibility_append_only()"
            )
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
                )


def downgrade():
    bind = op.get_bind()
    for table in APPEND_ONLY:
        if bind.dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    if bind.dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS eligibility_append_only()")

    with op.batch_alter_table('criterion_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_criterion_reviews_nomination_criterion')

    op.drop_table('criterion_reviews')
    with op.batch_alter_table('rule_parameter_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rule_parameter_changes_ruleset_id'))

    op.drop_table('rule_parameter_changes')
    op.drop_table('rule_parameter_overrides')
