extension Double {
  /// `50%`, `12.5%`: a percentage as the tables show it (no `.0` on whole numbers).
  var percentText: String {
    (rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self)) + "%"
  }
}
