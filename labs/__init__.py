"""Course lab exercises: toy loss surfaces, optimizer trajectories, learning-rate
experiments and fill-in-the-step exercises with their grader."""
