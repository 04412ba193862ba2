"""Surveys: a form's definition (form), its expressions (conditions), XLSForm files (xlsform)
and the built-in forms (templates). Nothing here knows about Telegram."""
