"""The Qt-free document model: layers, label maps, undo history, files."""
