"""Text in: reading bytes as text, and splitting it into tokens with offsets."""
