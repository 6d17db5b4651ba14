"""Click commands of the ``craft`` CLI, one module per family; each stays a thin shell."""
