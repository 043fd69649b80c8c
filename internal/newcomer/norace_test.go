//go:build !race

package newcomer

const raceDetector = false
