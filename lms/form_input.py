"""Request class that removes NUL characters from submitted form fields.

PostgreSQL text columns cannot store U+0000 while SQLite can, so a NUL
pasted from binary text would be kept on one database and fail the whole
request on the other. No form field of the platform has a use for the
character, so it is removed from form values before any view reads them.
"""

from flask import Request as FlaskRequest
from werkzeug.datastructures import ImmutableMultiDict

NUL = "\x00"


class Request(FlaskRequest):
    def _load_form_data(self) -> None:
        loaded = "form" in self.__dict__
        super()._load_form_data()
        if loaded:
            return
        form = self.__dict__["form"]
        if any(NUL in value for _key, value in form.items(multi=True)):
            self.__dict__["form"] = ImmutableMultiDict(
                (key, value.replace(NUL, "")) for key, value in form.items(multi=True)
            )


def init_app(app) -> None:
    app.request_class = Request
