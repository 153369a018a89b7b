"""Demo seed content as plain data: framework, university, accounts, courses.

The texts are Chinese because they are stored in the database and shown to
Chinese learners as they are. ``lms.seed`` turns these records into rows.
"""
