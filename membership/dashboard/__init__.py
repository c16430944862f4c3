"""Staff side: sign-in, metrics, members, exports, campaigns and audit."""
