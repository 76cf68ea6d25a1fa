# Everything runs from a project-local virtual environment that `make` builds itself.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# CPU PyTorch first, so pip never pulls a multi-GB CUDA build; a GPU host sets its own.
TORCH_SPEC ?= torch==2.13.0
TORCH_FIND_LINKS ?= /opt/wheels
STAMP := $(VENV)/.installed

.PHONY: install test check lint demo bench clean model docs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(if $(wildcard $(TORCH_FIND_LINKS)),--find-links $(TORCH_FIND_LINKS)) "$(TORCH_SPEC)"
	$(BIN)/pip install -q -e ".[runner,s3,dev]"
	# CLIP's BPE merges for single-file SD checkpoints; only that file is read (no torchvision).
	$(BIN)/pip install -q --no-deps "open_clip_torch>=2.20"
	touch $(STAMP)

install: $(STAMP)

# The suite runs in TEST_WORKERS processes (pytest-xdist), torch single-threaded in each: most
# tests wait on the stand-in, a real process or a lease, so three workers on two cores overlap
# those waits with another test's work, while torch's own threads would only spin against
# each other (measured here: 23 min in one process, 13.8 with two workers, see #26's note).
TEST_WORKERS ?= 3
test: lint
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist worksteal

# The fast loop: lint, types, and the tests with no Slack stand-in and no real process (the
# domain and its use cases with the tiny model, the grammar, storage, listeners with fakes),
# on SQLite only. `make test` is what CI runs: everything, on SQLite and PostgreSQL.
CHECK_TESTS := tests/test_layout.py tests/playbook tests/storage tests/handlers \
	tests/slack/test_grammar.py tests/slack/test_grammar_properties.py \
	tests/slack/test_option_grammar.py tests/slack/test_verbs.py tests/slack/test_manifest.py \
	tests/slack/test_standin.py
check: lint
	$(BIN)/python -m pytest -q -k "not postgresql" $(CHECK_TESTS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Retrain the built-in `shapes` model from its fixed seeds, in two stages: VAE, UNet and text
# encoder from scratch, then the UNet and text encoder again on new scenes at a lower rate
# (about 50 min on 2 CPU cores). Each stage ends with its held-out evaluation.
model: $(STAMP)
	$(BIN)/python -m bot.runner.shapes.train --seed 0
	$(BIN)/python -m bot.runner.shapes.train --resume --seed 1 --lr 5e-4

# The README's command list and manifest.yml's usage hint, from the verb registry.
docs: $(STAMP)
	$(BIN)/python -m bot.workbench.docs

demo: $(STAMP)
	$(BIN)/atelier demo --out atelier-demo

bench: $(STAMP)
	$(BIN)/python bench/runner_overhead.py
	$(BIN)/python bench/digest_query.py
	$(BIN)/python bench/queue_fairness.py
	$(BIN)/python bench/ack_latency.py
	$(BIN)/python bench/crash_recovery.py

clean:
	rm -rf $(VENV) atelier-demo atelier-images *.db
