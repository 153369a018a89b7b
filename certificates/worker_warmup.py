"""Warm-up that the fork server of certificate batch workers runs once.

``certificates.batches`` starts batch workers from a multiprocessing fork
server, which imports the app's modules and then this module. Workers forked
from it afterwards inherit the result, so none of them repeats it:

* SQLAlchemy configures the mappers of every model, which it otherwise does
  on a process's first query;
* WeasyPrint renders the default certificate once, which loads the
  certificate fonts, compiles the template and builds what WeasyPrint and
  cffi set up on first use.

Together this takes about 0.4 s of CPU. Importing the module anywhere else
only costs that time.
"""

import importlib
import logging

import sqlalchemy.orm

from certificates import designs, template_services
from certificates.template_models import TemplateLanguage
from lms import MODEL_MODULES
from lms.config import certificate_font_family

logger = logging.getLogger("certificates.batches")


def warm_up() -> None:
    """Configure the ORM mappers and render the default certificate once."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    sqlalchemy.orm.configure_mappers()
    body, css = template_services.default_source(TemplateLanguage.ZH)
    spec = designs.TemplateSpec(
        page_size="A4",
        orientation="landscape",
        language="zh",
        body_html=body,
        css=css,
        font_family=certificate_font_family(),
    )
    designs.render_pdf(spec, designs.sample_data())


try:
    warm_up()
except Exception:  # noqa: BLE001 - the workers then warm up on their own
    logger.warning(
        "Warm-up of the batch worker fork server failed, "
        "so each worker warms up on its own",
        exc_info=True,
    )
