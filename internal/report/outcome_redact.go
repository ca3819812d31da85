package report

import (
	"reflect"
)

// redacted returns a copy of o with every registered secret replaced in each
// of its text fields (strings and lists of strings, whatever fields Outcome
// grows). Reports that encode the outcome (JSON, base64) are built from it:
// a secret inside an encoding would slip past the redacting writer.
func (r *Reporter) redacted(o Outcome) Outcome {
	v := reflect.ValueOf(&o).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch {
		case f.Kind() == reflect.String:
			f.SetString(r.Redact(f.String()))
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String && !f.IsNil():
			s := reflect.MakeSlice(f.Type(), f.Len(), f.Len())
			for j := 0; j < f.Len(); j++ {
				s.Index(j).SetString(r.Redact(f.Index(j).String()))
			}
			f.Set(s)
		}
	}
	return o
}
