"""The playbook's use cases, one module per play and its neighbours; `PlaybookService` joins them."""
