"""System tests: whatever starts processes, servers, kernels or browsers (all ``slow``)."""
