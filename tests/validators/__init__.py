"""External validators over what the program registers (issue 11 §2); the shared case matrix is matrix.py."""
