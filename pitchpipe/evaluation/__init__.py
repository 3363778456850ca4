"""Scoring the models beside classical estimators, leave-one-soundfont-out, the report and publishing it."""
