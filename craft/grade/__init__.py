"""``craft grade``: lab submissions judged against the lab, row by row (rubric, sandbox,
the three rubrics, reports)."""
