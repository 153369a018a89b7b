"""Forms for frameworks, their levels, areas and items, mappings and imports."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from lms.choice_fields import RadioField, SelectField
from lms.competencies.models import MappingRelation
from lms.form_messages import PlatformForm
from lms.labels import level_label

CODE_RULE = Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    message=_l(
        "Use letters, digits, dots, hyphens and underscores,"
        " starting with a letter or digit."
    ),
)

RELATION_LABELS = {
    MappingRelation.EXACT_MATCH.value: _l("Exact match"),
    MappingRelation.CLOSE_MATCH.value: _l("Close match"),
    MappingRelation.RELATED.value: _l("Related"),
}

ONE_PER_LINE = _l("One entry per line.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label, max_length: int, required: bool = False, **kwargs) -> StringField:
    first = DataRequired() if required else Optional()
    return StringField(
        label, filters=[_strip], validators=[first, Length(max=max_length)], **kwargs
    )


def _code(max_length: int, **kwargs) -> StringField:
    return StringField(
        _l("Code"),
        filters=[_strip],
        validators=[DataRequired(), Length(max=max_length), CODE_RULE],
        **kwargs,
    )


def _requirements(label) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[Optional(), Length(max=10000)],
        description=ONE_PER_LINE,
    )


class FrameworkForm(PlatformForm):
    code = _code(
        64, description=_l("Short name shared by every version, e.g. counselor-2014.")
    )
    title = _text(_l("Title"), 200, required=True)
    issuer = _text(_l("Issuing body"), 200)
    document_no = _text(_l("Document number"), 100)
    year = IntegerField(
        _l("Year"), validators=[Optional(), NumberRange(min=1949, max=2100)]
    )
    version = _text(
        _l("Version label"),
        32,
        required=True,
        default="1",
        description=_l("Shown to people, e.g. 2014 暂行."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])

    FIELDS = ("code", "title", "issuer", "document_no", "year", "version", "notes")

    def values(self) -> dict:
        return {name: self[name].data or None for name in self.FIELDS}


def _position() -> IntegerField:
    return IntegerField(
        _l("Order"), validators=[InputRequired(), NumberRange(min=1, max=99)]
    )


def _years(label) -> IntegerField:
    return IntegerField(label, validators=[Optional(), NumberRange(min=0, max=60)])


class LevelForm(PlatformForm):
    code = _code(32)
    name = _text(_l("Level name"), 64, required=True)
    position = _position()
    min_years = _years(_l("Minimum years of service"))
    max_years = _years(_l("Maximum years of service"))

    FIELDS = ("code", "name", "position", "min_years", "max_years")

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}


class AreaForm(PlatformForm):
    code = _code(32)
    name = _text(_l("Area name"), 100, required=True)
    position = _position()

    FIELDS = ("code", "name", "position")

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}


class ItemForm(PlatformForm):
    level_id = SelectField(_l("Level"), coerce=int, validators=[InputRequired()])
    area_id = SelectField(
        _l("Functional area"), coerce=int, validators=[InputRequired()]
    )
    code = _code(32, description=_l("Usually level order and area order, e.g. 1.5."))
    summary = TextAreaField(
        _l("Summary"), validators=[DataRequired(), Length(max=2000)]
    )
    work_content = _requirements(_l("Work content"))
    ability_requirements = _requirements(_l("Ability requirements"))
    knowledge_requirements = _requirements(_l("Knowledge requirements"))

    FIELDS = (
        "level_id",
        "area_id",
        "code",
        "summary",
        "work_content",
        "ability_requirements",
        "knowledge_requirements",
    )

    def __init__(self, framework, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level_id.choices = [
            SelectChoice(level.id, level_label(level)) for level in framework.levels
        ]
        self.area_id.choices = [
            SelectChoice(area.id, area.name) for area in framework.areas
        ]

    def values(self) -> dict:
        return {name: self[name].data for name in self.FIELDS}


class VersionForm(PlatformForm):
    version = _text(_l("Label of the new version"), 32, required=True)


class MappingForm(PlatformForm):
    source_area_id = SelectField(
        _l("Area of this framework"), coerce=int, validators=[InputRequired()]
    )
    relation = SelectField(
        _l("Relation"),
        choices=[
            SelectChoice(value, label) for value, label in RELATION_LABELS.items()
        ],
        validators=[InputRequired()],
    )
    target_area_id = SelectField(
        _l("Area of another framework"), coerce=int, validators=[InputRequired()]
    )
    note = _text(_l("Note"), 500)

    def __init__(self, framework, others, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.source_area_id.choices = [
            SelectChoice(area.id, f"{area.position}. {area.name}")
            for area in framework.areas
        ]
        self.target_area_id.choices = [
            SelectChoice(
                area.id,
                f"{area.position}. {area.name}",
                optgroup=f"{other.title} ({other.version})",
            )
            for other in others
            for area in other.areas
        ]


class ImportForm(PlatformForm):
    file_format = RadioField(
        _l("Format"),
        choices=[
            SelectChoice("csv", _l("CSV, one row per item")),
            SelectChoice("case", _l("1EdTech CASE 1.0 JSON")),
        ],
        default="csv",
        validators=[InputRequired()],
    )
    upload = FileField(
        _l("File"), validators=[FileRequired(_l("Choose a .csv or .json file."))]
    )
    code = StringField(
        _l("Code"),
        filters=[_strip],
        validators=[Optional(), Length(max=64), CODE_RULE],
        description=_l(
            "Required for CSV. For CASE, leave empty to use the code in the file."
        ),
    )
    title = _text(
        _l("Title"),
        200,
        description=_l(
            "Required for CSV. For CASE, leave empty to use the title in the file."
        ),
    )
    issuer = _text(_l("Issuing body"), 200)
    version = _text(_l("Version label"), 32)

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.file_format.data != "csv":
            return valid
        for field in (self.code, self.title):
            if not field.data and not field.errors:
                field.errors = list(field.errors) + [_l("Required for a CSV import.")]
                valid = False
        return valid


class ConfirmForm(PlatformForm):
    """Empty form that carries the CSRF token of a button."""
