package db

import "gorm.io/gorm"

// QueuedForTest is how many callers wait for the group of gdb's database.
func QueuedForTest(gdb *gorm.DB) int {
	sqlDB, err := gdb.DB()
	if err != nil {
		return 0
	}
	g, ok := groups.Load(sqlDB)
	if !ok {
		return 0
	}
	grp := g.(*group)
	grp.mu.Lock()
	defer grp.mu.Unlock()
	return len(grp.queue)
}
