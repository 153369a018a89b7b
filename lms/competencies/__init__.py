"""Competency frameworks: levels x functional areas, and the items in each cell.

``models`` contains the tables, ``services`` the editing and lifecycle rules,
``transfer`` the format-neutral import, ``csvio`` the CSV format, ``case``
and ``case_import`` the 1EdTech CASE 1.0 export and import, and ``views``
the blueprint under /frameworks.
"""

import logging

logger = logging.getLogger("lms.competencies")
