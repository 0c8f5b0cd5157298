"""Video work beyond playback: the exact last frame (Extend), joining clips without
re-encoding (Join), and GIF/WebP/PNG exports. docs/video-toolchain.md says what does each
job and under which licence.
"""
