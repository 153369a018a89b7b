"""Images in the text of lessons, uploaded with the lesson form.

Each institution's images live in their own upload area under generated
names and are served at ``/lesson-images/<institution id>/<name>`` to that
institution's signed-in users only. Lesson HTML keeps an ``<img>`` source
only when it is such an address, so a lesson never loads an image from
another site.

NOTE: a lesson copied to another institution keeps addresses that its
people cannot open, so the copy shows no images until they are uploaded again.

Images are stored as soon as the lesson form is posted, before the lesson
validates, so a form shown again with an error keeps them. An image that
no lesson refers to is deleted by ``purge_unreferenced``, which the
``cleanup_temp_uploads`` job runs once the image is older than
``LMS_TEMP_UPLOAD_MAX_AGE_HOURS``.
"""

import io
import re
import stat
from datetime import datetime

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import gettext as _
from markupsafe import escape
from PIL import Image, UnidentifiedImageError

from courses import logger
from courses.models import Lesson
from lms import uploads
from lms.extensions import db
from lms.i18n import join_names

IMAGE_TYPES = ("png", "jpg", "jpeg")
#: Default size limit per image, overridden by the ``LESSON_IMAGE_MAX_BYTES`` setting.
DEFAULT_MAX_BYTES = 2 * uploads.MB
#: Largest image accepted, as for certificate images.
MAX_PIXELS = 40_000_000
#: Address of an uploaded image, as ``store_images`` writes it. ``clean_html``
#: drops any other ``src``.
SOURCE_PATTERN = re.compile(r"/lesson-images/(\d+)/([0-9a-f]{32}\.(?:png|jpg|jpeg))")
#: Folder of an institution's images under ``UPLOAD_DIR``, as ``area`` names it.
AREA_PATTERN = re.compile(r"lesson_images_(\d+)")
#: Name of a stored image, as ``uploads.store`` generates it.
NAME_PATTERN = re.compile(r"[0-9a-f]{32}\.(?:png|jpg|jpeg)")


def max_bytes() -> int:
    return current_app.config.get("LESSON_IMAGE_MAX_BYTES", DEFAULT_MAX_BYTES)


uploads.register_field("lesson_images", lambda: {"*": max_bytes()})


def area(institution_id: int) -> str:
    return f"lesson_images_{institution_id}"


def is_image_source(value: str) -> bool:
    # fullmatch, because "$" would also accept a source ending in a newline.
    return SOURCE_PATTERN.fullmatch(value or "") is not None


def upload_message(error: uploads.UploadError, filename: str) -> str:
    """Return the message explaining to a trainer why an image was rejected."""
    types = join_names(IMAGE_TYPES)
    if error.code == "extension":
        return _(
            "%(name)s is not an image the lesson text can show. Upload a %(types)s file.",
            name=filename,
            types=types,
        )
    if error.code == "size":
        return _(
            "The image %(name)s is larger than %(limit)s MB. Upload a smaller image.",
            name=filename,
            limit=uploads.megabytes(error.limit),
        )
    return _(
        "The content of %(name)s does not match its extension. Upload a real %(types)s file.",
        name=filename,
        types=types,
    )


def _decode_problem(content: bytes, name: str) -> str:
    """Return why the image ``name`` cannot be shown, or an empty string."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            image.verify()
    except Image.DecompressionBombError:
        width, height = MAX_PIXELS + 1, 1
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return _(
            "The image %(name)s is damaged or incomplete. Save it again as PNG or JPEG.",
            name=name,
        )
    if width * height > MAX_PIXELS:
        return _(
            "The image %(name)s has more than %(max)s million pixels. Scale it down.",
            name=name,
            max=MAX_PIXELS // 1_000_000,
        )
    return ""


def store_images(institution_id: int, files, errors: dict) -> list[str]:
    """Store the uploaded images and return an ``<img>`` tag for each.

    A rejected file adds a message to ``errors["images"]`` and stores nothing
    of the upload; empty file inputs are skipped.
    """
    chosen = [each for each in files if each is not None and each.filename]
    checked = []
    for upload in chosen:
        name = uploads.client_filename(upload.filename)
        try:
            uploads.check(
                upload.filename, upload.stream, allowed=IMAGE_TYPES, max_bytes=max_bytes()
            )
        except uploads.UploadError as error:
            errors["images"] = upload_message(error, name)
            return []
        upload.stream.seek(0)
        problem = _decode_problem(upload.stream.read(), name)
        if problem:
            errors["images"] = problem
            return []
        upload.stream.seek(0)
        checked.append((upload, name))
    tags = []
    for upload, name in checked:
        stored = uploads.store(
            area(institution_id),
            upload.filename,
            upload.stream,
            allowed=IMAGE_TYPES,
            max_bytes=max_bytes(),
        )
        source = url_for("courses.lesson_image", institution_id=institution_id, name=stored.name)
        tags.append(f'<p><img src="{source}" alt="{escape(name)}"></p>')
    return tags


def referenced_images() -> set[tuple[int, str]]:
    """Return (institution id, name) of every image that the text of a lesson shows.

    Every lesson counts, whatever its course's version or status, and so
    do lessons of another institution that were copied with the address.
    """
    bodies = db.session.scalars(
        sa.select(Lesson.body_html)
        .where(Lesson.body_html.contains("/lesson-images/"))
        .execution_options(yield_per=500)
    )
    found = set()
    for body in bodies:
        for match in SOURCE_PATTERN.finditer(body or ""):
            found.add((int(match.group(1)), match.group(2)))
    return found


def purge_unreferenced(cutoff: datetime) -> int:
    """Delete the stored images last changed before ``cutoff`` that no lesson shows.

    Returns how many were deleted. Only regular files with a generated
    name are deleted. Links and other entries of the folders stay.

    NOTE: a lesson form shown again with an error and saved only after this
    age may carry tags of images deleted meanwhile, which then show as missing.
    """
    root = uploads.upload_root()
    if not root.is_dir():
        return 0
    stamp = cutoff.timestamp()
    old = []
    for folder in root.iterdir():
        match = AREA_PATTERN.fullmatch(folder.name)
        if match is None or folder.is_symlink() or not folder.is_dir():
            continue
        for path in folder.iterdir():
            if NAME_PATTERN.fullmatch(path.name) is None:
                continue
            try:
                status = path.lstat()
            except FileNotFoundError:
                continue
            if stat.S_ISREG(status.st_mode) and status.st_mtime < stamp:
                old.append((int(match.group(1)), path))
    if not old:
        return 0
    # Read after the files were listed, so a lesson saved meanwhile counts.
    referenced = referenced_images()
    deleted = 0
    for institution_id, path in old:
        if (institution_id, path.name) in referenced:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            logger.warning("could not delete lesson image %s: %s", path, exc)
            continue
        deleted += 1
    return deleted
