public enum GanTrainingPlaceholder {}
