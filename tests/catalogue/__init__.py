"""The catalogue of bad inputs: each part of the project lists its cases in a module here."""
