"""Flask extension instances, bound to the app in ``create_app``."""

from flask import request
from flask_login import current_user
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names make Alembic revisions readable and portable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class ViewLimiter(Limiter):
    """A rate limiter whose limits are all declared on views.

    Flask-Limiter counts default, application and blueprint limits in a
    ``before_request`` hook, and a view's own limits in the view's
    decorator. Shuren declares limits on views only, so the hook would
    look for limits on every request and find none; this class skips it.
    Default or application limits would be skipped with it, so declaring
    them stops the start-up. Blueprint limits are not supported either.
    """

    def init_app(self, app, *args, **kwargs) -> None:
        super().init_app(app, *args, **kwargs)
        manager = self.limit_manager
        if manager.default_limits or manager.application_limits:
            raise RuntimeError(
                "Default and application rate limits are not supported, so "
                "declare each limit on its view with limiter.limit."
            )

    def _check_request_limit(self, callable_name=None, in_middleware: bool = True) -> None:
        if in_middleware:
            return
        super()._check_request_limit(callable_name, in_middleware)


limiter = ViewLimiter(key_func=get_remote_address, default_limits=[])


def login_rate_key() -> str:
    """Key the login limit by address and submitted username together."""
    username = (request.form.get("username") or "").strip().lower()
    return f"{get_remote_address()}:{username}"


def account_rate_key() -> str:
    """Key the per-account login limit by the submitted username alone."""
    username = (request.form.get("username") or "").strip().lower()
    return f"account:{username}"


def user_rate_key() -> str:
    """Key a limit by the logged-in user, or by address for guests."""
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return get_remote_address()
