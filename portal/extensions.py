"""Extensions created unbound; create_app binds them with init_app."""

from collections.abc import Callable

from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_AFTER_COMMIT = "collateral_after_commit"


class Session(FlaskSession):
    """Runs the callbacks registered with `after_commit` once a commit has
    finished and the session can be used again (SQLAlchemy's own after_commit
    event fires while no SQL may be emitted, so a task run inline could not
    read anything). A rollback drops them with the changes they were for."""

    def commit(self) -> None:
        super().commit()
        for callback in self.info.pop(_AFTER_COMMIT, {}).values():
            callback()

    def rollback(self) -> None:
        self.info.pop(_AFTER_COMMIT, None)
        super().rollback()


def after_commit(session: Session, key: str, callback: Callable[[], None]) -> None:
    """Run `callback` after the current transaction commits (once per key)."""
    session.info.setdefault(_AFTER_COMMIT, {})[key] = callback


db = SQLAlchemy(model_class=Base, session_options={"class_": Session})
login_manager = LoginManager()
csrf = CSRFProtect()
