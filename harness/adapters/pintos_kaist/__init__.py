"""The adapter for Pintos-KAIST student kernels (--kernel pintos-kaist:PATH)."""
