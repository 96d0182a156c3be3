"""Pure importers of external files (hotlists, ...): text in, models and line errors out."""
