"""The playbook as plain Python: roles, plays, recipes, gate, metrics and the service."""
