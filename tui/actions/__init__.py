"""What the chat does, in mixins of the app: engine workers and their results, and the commands."""
