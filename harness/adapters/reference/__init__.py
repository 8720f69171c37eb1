"""The adapter for vmcheck's own reference kernel (reference_kernel/)."""
