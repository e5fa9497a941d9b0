"""Local online endpoints: state on disk, the traffic router, processes, rollouts and smoke tests."""
