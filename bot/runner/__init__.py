"""The GPU side: job worker, diffusers backend, image utilities. Only here is torch imported."""
