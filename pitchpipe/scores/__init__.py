"""Scores on arrays and label sets: pitch metrics, mir_eval's melody metrics over phrases, the headline."""
