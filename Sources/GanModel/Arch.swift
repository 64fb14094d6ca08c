public enum GanModelPlaceholder {}
