"""The Qt views, panels, tools and workers around the Qt-free document model."""
