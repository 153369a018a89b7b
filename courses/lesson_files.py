"""Uploaded videos and attachments of lessons, checked and stored by ``lms.uploads``.

Files live in the upload area ``lessons`` under generated names. A course
copy or a new course version names the same stored file as its source, so
a stored lesson file is never deleted while a lesson may name it.

NOTE: a file replaced in a draft lesson stays on disk. Removing it safely
needs a sweep for stored names that no lesson row names any more.
"""

from flask import current_app
from flask_babel import gettext as _

from courses.models import Lesson, LessonKind
from lms import uploads
from lms.i18n import join_names

AREA = "lessons"
VIDEO_TYPES = ("mp4", "webm")
ATTACHMENT_TYPES = ("pdf", "docx", "pptx", "xlsx")
#: Default size limits, overridden by the ``LESSON_VIDEO_MAX_BYTES`` and
#: ``LESSON_FILE_MAX_BYTES`` settings. ``MAX_CONTENT_LENGTH`` also bounds a request.
DEFAULT_VIDEO_MAX_BYTES = 50 * uploads.MB
DEFAULT_FILE_MAX_BYTES = 20 * uploads.MB


def allowed_types(kind: LessonKind) -> tuple[str, ...]:
    return VIDEO_TYPES if kind is LessonKind.VIDEO else ATTACHMENT_TYPES


def max_bytes(kind: LessonKind) -> int:
    if kind is LessonKind.VIDEO:
        return current_app.config.get("LESSON_VIDEO_MAX_BYTES", DEFAULT_VIDEO_MAX_BYTES)
    return current_app.config.get("LESSON_FILE_MAX_BYTES", DEFAULT_FILE_MAX_BYTES)


uploads.register_field(
    "lesson_file",
    lambda: {
        "*": max_bytes(LessonKind.FILE),
        **{ext: max_bytes(LessonKind.VIDEO) for ext in VIDEO_TYPES},
    },
)


def has_file_of(lesson: Lesson | None, extensions: tuple[str, ...]) -> bool:
    """Return whether ``lesson`` already has a stored file of one of ``extensions``."""
    if lesson is None or not lesson.file_name:
        return False
    return uploads.extension_of(lesson.file_name) in extensions


def size_text(size: int) -> str:
    """Return a byte count as whole MB, or as whole KB below one MB."""
    if size >= uploads.MB:
        return f"{size // uploads.MB} MB"
    return f"{max(size // 1024, 1)} KB"


def upload_message(error: uploads.UploadError, kind: LessonKind) -> str:
    """Return the message that explains to a trainer why an upload was rejected."""
    types = join_names(error.allowed or allowed_types(kind))
    if error.code == "missing":
        return _("Choose a non-empty file to upload: %(types)s.", types=types)
    if error.code == "extension":
        return _("Upload a file of one of these types: %(types)s.", types=types)
    if error.code == "size":
        return _(
            "The file is larger than %(limit)s. Upload a smaller file.",
            limit=size_text(error.limit),
        )
    return _(
        "The file's content does not match its extension. Upload a real %(types)s"
        " file.",
        types=types,
    )


def store_upload(kind: LessonKind, upload) -> uploads.StoredFile:
    """Check and store an uploaded lesson file, or raise ``AuthoringError``."""
    from courses.authoring import reject

    try:
        return uploads.store(
            AREA,
            upload.filename or "",
            upload.stream,
            allowed=allowed_types(kind),
            max_bytes=max_bytes(kind),
        )
    except uploads.UploadError as error:
        raise reject(upload_message(error, kind), "upload") from error


def attach(lesson: Lesson, stored: uploads.StoredFile) -> None:
    lesson.file_name = stored.name
    lesson.file_original_name = stored.original_name
    lesson.file_media_type = stored.media_type
    lesson.file_size = stored.size
    lesson.video_url = None


def detach(lesson: Lesson) -> None:
    """Clear the lesson's file fields. The stored file stays for copies that name it."""
    lesson.file_name = None
    lesson.file_original_name = None
    lesson.file_media_type = None
    lesson.file_size = None


def copy_file_fields(source: Lesson, target: Lesson) -> None:
    target.file_name = source.file_name
    target.file_original_name = source.file_original_name
    target.file_media_type = source.file_media_type
    target.file_size = source.file_size


def send(lesson: Lesson):
    """Serve the lesson's file: videos inline for the player, documents as downloads."""
    return uploads.send(
        AREA,
        lesson.file_name or "",
        lesson.file_original_name or lesson.file_name or "",
        inline=lesson.kind is LessonKind.VIDEO,
        fallback_stem=f"lesson-{lesson.id}",
    )
