"""Atelier: the image-generation playbook as a Slack workbench."""
