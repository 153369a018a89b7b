"""``flask lms ...`` commands."""

import click
from flask import Flask
from flask.cli import AppGroup

lms_cli = AppGroup("lms", help="Shuren administration commands.")


def init_app(app: Flask) -> None:
    app.cli.add_command(lms_cli)
